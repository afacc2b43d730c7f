package requestwiki

// ErrRequestNotFound is the error type of a request id cw_requests does not have.
const ErrRequestNotFound = "RequestNotFound"
