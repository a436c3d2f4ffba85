package apiclient

import (
	"context"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// ReplayBatch asks whether the API already has a POST /batches made under
// idempotencyKey, without sending any file: a key seen before returns the
// original answer (the contract: a repeated key returns the original
// response and creates nothing), an unknown key is refused as an invalid
// (empty) request — a permanent *APIError — and creates nothing either.
//
// The submitter uses it when the files of a batch that may already have
// reached the API are gone: the API's answer, not the file system, decides
// whether they were uploaded.
func (c *Client) ReplayBatch(ctx context.Context, idempotencyKey string) (*docuparse.BatchResponse, error) {
	var out docuparse.BatchResponse
	if err := c.submit(ctx, EndpointSubmitBatch, "/batches", idempotencyKey, nil, &out, validBatch(&out, 0)); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReplayExtract is ReplayBatch for POST /extract.
func (c *Client) ReplayExtract(ctx context.Context, idempotencyKey string) (*docuparse.ExtractResponse, error) {
	var out docuparse.ExtractResponse
	if err := c.submit(ctx, EndpointExtract, "/extract", idempotencyKey, nil, &out, validExtract(&out)); err != nil {
		return nil, err
	}
	return &out, nil
}
