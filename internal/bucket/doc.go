// Package bucket owns the daemon's side of cloud object storage: parsing a
// source's or output's gocloud blob URL into the bucket and the key prefix,
// opening it with each cloud's normal credential chain (gocloud.dev/blob,
// drivers s3blob, gcsblob, azureblob, fileblob and memblob), listing it a
// page at a time, telling one version of an object from another (ETag,
// generation or MD5), reading and deleting an object only while it is the
// version that was listed (conditional requests where the cloud has them),
// and saying what went wrong in one line that never holds a credential or
// a signed URL.
//
// It knows nothing of documents, the store or the API: the bucket source
// in package ingest and the exporter's after-actions build on it.
package bucket
