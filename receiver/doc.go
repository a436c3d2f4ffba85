// Package receiver owns the webhook endpoint: it verifies each delivery's
// X-DocuParse-Signature over the raw body, journals the verified bytes in
// the store before answering exactly 200, and applies journaled events to
// document state afterwards (the Applier), so slow work never delays an
// acknowledgement.
//
// It does not poll the API or write outputs. Events it cannot use (unknown
// types, unparseable bodies) are kept in the journal as dead letters, never
// dropped.
package receiver
