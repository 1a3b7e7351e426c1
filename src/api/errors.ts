// Errors a route throws to answer with a status: the client's mistake, named so it can be fixed.

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 503 | 507,
    message: string,
    /** The request field at fault (a body key or a query parameter), when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export const badField = (field: string, message: string) => new ApiError(400, `${field}: ${message}`, field);
export const notFound = (message: string) => new ApiError(404, message);
