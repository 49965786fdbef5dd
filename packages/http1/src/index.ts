export { ChunkedDecoder, type ChunkLimits, type ChunkSink } from './chunked.js';
export { H1_ERRORS, type H1Code, h1Status } from './errors.js';
export { type BodyKind, HeadFields, type HeadLimits, parseRequestHead, parseResponseHead, RequestHead, ResponseHead } from './head.js';
export { appendFields, chunkSizeLine, HOP_BY_HOP, LAST_CHUNK } from './serialize.js';
