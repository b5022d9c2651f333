// API errors with Toxiproxy's messages and status codes; the body is {"error": …, "status": …}.

export class ProxyApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export const apiErrors = {
  badBody: (detail: string) => new ProxyApiError(`bad request body: ${detail}`, 400),
  missingField: (field: string) => new ProxyApiError(`missing required field: ${field}`, 400),
  proxyNotFound: () => new ProxyApiError("proxy not found", 404),
  proxyExists: () => new ProxyApiError("proxy already exists", 409),
  invalidStream: () => new ProxyApiError("stream was invalid, can be either upstream or downstream", 400),
  invalidToxicType: () => new ProxyApiError("invalid toxic type", 400),
  toxicExists: () => new ProxyApiError("toxic already exists", 409),
  toxicNotFound: () => new ProxyApiError("toxic not found", 404),
  /** chaoscast extensions: a request chaoscast's own routes cannot answer. */
  badRequest: (detail: string) => new ProxyApiError(detail, 400),
  httpToxicNeedsHttpProxy: (type: string) => new ProxyApiError(`${type} is an HTTP toxic: create the proxy with "http": true`, 400),
};
