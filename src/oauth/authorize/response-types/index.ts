// The response type registry: /authorize looks the handler up by response_type. Adding a
// response type is adding a module and one line here.
import { code } from './code.js';
import { idToken, idTokenToken } from './implicit.js';
import type { ResponseTypeHandler } from './types.js';

const handlers: ResponseTypeHandler[] = [code, idToken, idTokenToken];

export const responseTypeHandlers: ReadonlyMap<string, ResponseTypeHandler> = new Map(handlers.map((h) => [h.response_type, h]));
