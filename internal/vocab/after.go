package vocab

// After-actions: what becomes of a source's input file (or object) once its
// document is exported, the values of a source's `after` key.
const (
	// AfterKeep leaves the input where it is.
	AfterKeep = "keep"
	// AfterMove moves it to the source's move_to (a bucket: under
	// after_prefix), and a rejected one to move_rejected_to when set.
	AfterMove = "move"
	// AfterDelete deletes it once its content reached a result.
	AfterDelete = "delete"
)

// AfterActions lists every after-action, the values `after` accepts.
var AfterActions = []string{AfterKeep, AfterMove, AfterDelete}
