package bucket

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"gocloud.dev/gcerrors"
)

type code = gcerrors.ErrorCode

const (
	codeOK                 = gcerrors.OK
	codeNotFound           = gcerrors.NotFound
	codeFailedPrecondition = gcerrors.FailedPrecondition
)

func gcerrCode(err error) code {
	if err == nil {
		return codeOK
	}
	return gcerrors.Code(err)
}

// describedError carries a driver's error, but says it as Describe does:
// errors.Is and gcerrors.Code still see the original.
type describedError struct{ err error }

func (e describedError) Error() string { return Describe(e.err) }
func (e describedError) Unwrap() error { return e.err }

// IsNotFound reports whether err says the object (or the bucket, or a
// file:// bucket's directory) does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, errGone) || errors.Is(err, errNoDir) || gcerrCode(err) == codeNotFound
}

// IsDenied reports whether err says the credentials may not do this.
func IsDenied(err error) bool { return gcerrCode(err) == gcerrors.PermissionDenied }

// IsTemporary reports whether err may pass by itself: the cloud
// unreachable, slow, throttling or failing inside. Missing buckets, denied
// access and bad requests are not: they are the configuration's.
func IsTemporary(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch gcerrCode(err) {
	case gcerrors.Unknown, gcerrors.Internal, gcerrors.DeadlineExceeded, gcerrors.ResourceExhausted:
		return true
	}
	return false
}

// Describe says in one line what went wrong with a bucket request, for an
// operator: the cause first ("access denied", "bucket not found", "the
// bucket is in another region", "cannot reach the endpoint"), then the
// cloud's own words with every URL's query and user information cut off
// (a SAS token or a signed URL lives there) and known secret values
// removed.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var cause string
	switch gcerrCode(err) {
	case gcerrors.NotFound:
		cause = "not found (the bucket or the object does not exist)"
	case gcerrors.PermissionDenied:
		cause = "access denied (the credentials may not do this)"
	case gcerrors.FailedPrecondition:
		cause = "the object changed meanwhile"
	case gcerrors.DeadlineExceeded:
		cause = "the storage service is unreachable or too slow"
	case gcerrors.ResourceExhausted:
		cause = "throttled by the storage service"
	case gcerrors.InvalidArgument:
		cause = "refused as invalid"
	}
	msg := err.Error()
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "permanentredirect") || strings.Contains(low, "authorizationheadermalformed") && strings.Contains(low, "region"),
		strings.Contains(low, "wrong region") || strings.Contains(low, "expecting") && strings.Contains(low, "region"):
		cause = "the bucket is in another region (set ?region= in the URL)"
	case strings.Contains(low, "nosuchbucket") || strings.Contains(low, "containernotfound") || strings.Contains(low, "bucket does not exist"):
		cause = "bucket not found"
	case strings.Contains(low, "accessdenied") || strings.Contains(low, "authorizationfailure") || strings.Contains(low, "authorizationpermissionmismatch") ||
		strings.Contains(low, "invalidaccesskeyid") || strings.Contains(low, "signaturedoesnotmatch") || strings.Contains(low, "authenticationfailed"):
		cause = "access denied (the credentials may not do this)"
	case strings.Contains(low, "no ec2 imds role found") || strings.Contains(low, "failed to retrieve credentials") ||
		strings.Contains(low, "could not find default credentials") || strings.Contains(low, "defaultazurecredential"):
		cause = "no credentials found (the cloud's environment variables, shared config or instance identity)"
	case strings.Contains(low, "connection refused") || strings.Contains(low, "no such host") || strings.Contains(low, "i/o timeout"):
		cause = "cannot reach the storage endpoint"
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.ErrorCode != "" {
		msg = re.ErrorCode // its Error() lists the request and response headers
	}
	msg = scrub(msg)
	if cause == "" {
		return msg
	}
	return cause + ": " + msg
}

var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// secretWords are query or header names whose values are secrets.
var secretWord = regexp.MustCompile(`(?i)((?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|accountkey|sharedaccesssignature|access_token|token|password|secret)\s*[=:]\s*)[^\s&;,"']+`)

// scrub cuts the query and user information off every URL in s and blanks
// any value named like a secret.
func scrub(s string) string {
	s = urlInText.ReplaceAllStringFunc(s, func(m string) string {
		u, err := url.Parse(m)
		if err != nil {
			return "<url>"
		}
		u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
		return u.String()
	})
	return secretWord.ReplaceAllString(s, "${1}REDACTED")
}

// azETag is an Azure ETag of the text a version holds.
func azETag(v string) azcore.ETag { return azcore.ETag(`"` + v + `"`) }

// ifMatch adds an If-Match condition to Azure access conditions.
func ifMatch(ac *azblobblob.AccessConditions, etag *azcore.ETag) *azblobblob.AccessConditions {
	return withModified(ac, func(m *azblobblob.ModifiedAccessConditions) { m.IfMatch = etag })
}

// withModified sets a condition (If-Match, If-None-Match, …) on Azure
// access conditions, making them where there are none.
func withModified(ac *azblobblob.AccessConditions, set func(*azblobblob.ModifiedAccessConditions)) *azblobblob.AccessConditions {
	if ac == nil {
		ac = &azblobblob.AccessConditions{}
	}
	if ac.ModifiedAccessConditions == nil {
		ac.ModifiedAccessConditions = &azblobblob.ModifiedAccessConditions{}
	}
	set(ac.ModifiedAccessConditions)
	return ac
}
