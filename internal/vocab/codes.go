package vocab

import "github.com/docuparse/docuparse-ingest/internal/docuparse"

// Local rejection codes: the error_code of a document rejected by the
// daemon itself, never uploaded. They mirror the API's codes where one
// exists, so that the report groups a local and an API refusal together.
const (
	// CodeFileTooLarge: over api.max_file_size (the API's FILE_TOO_LARGE).
	CodeFileTooLarge = docuparse.CodeFileTooLarge
	// CodeUnsupportedMedia: not a PDF or CSV (the API's
	// UNSUPPORTED_MEDIA_TYPE).
	CodeUnsupportedMedia = docuparse.CodeUnsupportedMedia
	// CodeEmptyFile: empty, and still empty after the source's empty_wait.
	CodeEmptyFile = "EMPTY_FILE"
	// CodeUnreadable: could not be read; its content is unknown, so its
	// duplicates are not settled by it.
	CodeUnreadable = "UNREADABLE"
	// CodeHardlinked: has more than one hard link, so is never read
	// (another of its names may be a file only the service may read); like
	// an unreadable one, its duplicates are not settled by it.
	CodeHardlinked = "HARDLINKED_FILE"
)

// RejectionCodes lists every local rejection code.
var RejectionCodes = []string{CodeFileTooLarge, CodeUnsupportedMedia, CodeEmptyFile, CodeUnreadable, CodeHardlinked}

// Codes the daemon records for what happened to a document after intake,
// in error_code (a failed document) or as a transition's reason.
const (
	// CodeNotInAnswer: queued again because the original answer under its
	// batch's key does not list it.
	CodeNotInAnswer = "NOT_IN_ANSWER"
	// CodeUploadFailed: its batch was split because its uploads kept
	// failing while the API did not have its key.
	CodeUploadFailed = "UPLOAD_FAILED"
	// CodeSubmitStuck: still submitting, but the submitter stopped its
	// upload: the API kept answering in a way that cannot be recorded
	// (fewer documents than files, another shape, an unknown key). It
	// waits, with the reason in error_message, for `retry --stuck`.
	CodeSubmitStuck = "SUBMIT_STUCK"
	// CodeResubmitted: a document still waiting for its result when it
	// was retried: it ends failed, with one failure row, and the retry
	// carries the file on.
	CodeResubmitted = "RESUBMITTED"
	// CodeDocumentIDConflict: the API answered its upload with a
	// document_id it had already given another file.
	CodeDocumentIDConflict = "DOCUMENT_ID_CONFLICT"
	// CodeInvalidResult: the API sent result data the outputs cannot
	// represent (a float for money, say); the row says so instead of the
	// extracted fields.
	CodeInvalidResult = "INVALID_RESULT"
)
