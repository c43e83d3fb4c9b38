package googleads

// IngestSizeHint is ingestSizeHint, for the benchmarks.
var IngestSizeHint = ingestSizeHint
