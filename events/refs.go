package events

// CloudEvents types of the ref events.
const (
	TypeBranchDeleted = "dev.slipway.branch.deleted." + SchemaVersion
	TypeTagPushed     = "dev.slipway.tag.pushed." + SchemaVersion
	TypeTagDeleted    = "dev.slipway.tag.deleted." + SchemaVersion
)

// Subjects of the ref events. They share the prefix SubjectRef, so
// "slipway.ref.deleted.>" follows every deletion and "slipway.ref.>" every ref
// change that is not a push to a branch.
const (
	SubjectRef           = "slipway.ref"
	SubjectBranchDeleted = "slipway.ref.deleted.branch"
	SubjectTagPushed     = "slipway.ref.pushed.tag"
	SubjectTagDeleted    = "slipway.ref.deleted.tag"
)

// Commit is one commit of a push, as the git host listed it.
type Commit struct {
	ID      string `json:"id"`
	Message string `json:"message,omitempty"`
	Author  string `json:"author,omitempty"`
}

// BranchDeleted is a verified deletion of a branch. Nothing is built; a
// consumer may tear down what it made for the branch.
type BranchDeleted struct {
	Repo   Repo   `json:"repo"`
	Ref    string `json:"ref"`
	Branch string `json:"branch"`
	// Before is the commit the branch pointed to, or "" when the host does
	// not say (Gitea's and Gogs' delete events).
	Before     string `json:"before,omitempty"`
	Pusher     string `json:"pusher,omitempty"`
	DeliveryID string `json:"delivery_id,omitempty"`
}

// TagPushed is a verified creation or move of a tag.
type TagPushed struct {
	Repo Repo   `json:"repo"`
	Ref  string `json:"ref"`
	Tag  string `json:"tag"`
	// Before is the tag's previous object, "" for a new tag.
	Before string `json:"before,omitempty"`
	// After is the tag's new object: the commit, or the tag object of an
	// annotated tag.
	After string `json:"after"`
	// Commit is the tagged commit when the host tells it apart from After,
	// otherwise After.
	Commit     string `json:"commit"`
	Created    bool   `json:"created,omitempty"`
	Pusher     string `json:"pusher,omitempty"`
	DeliveryID string `json:"delivery_id,omitempty"`
}

// TagDeleted is a verified deletion of a tag.
type TagDeleted struct {
	Repo Repo   `json:"repo"`
	Ref  string `json:"ref"`
	Tag  string `json:"tag"`
	// Before is the object the tag pointed to, or "" when the host does not
	// say.
	Before     string `json:"before,omitempty"`
	Pusher     string `json:"pusher,omitempty"`
	DeliveryID string `json:"delivery_id,omitempty"`
}

func (e *BranchDeleted) EventType() string { return TypeBranchDeleted }
func (e *BranchDeleted) Subject() string   { return SubjectBranchDeleted }
func (e *BranchDeleted) CESubject() string { return e.Repo.FullName + "@" + e.Ref }

// DedupKey names the ref and the commit it pointed to; without that commit,
// the delivery.
func (e *BranchDeleted) DedupKey() string {
	return deletedKey(e.Repo.FullName, e.Ref, e.Before, e.DeliveryID)
}

func (e *TagPushed) EventType() string { return TypeTagPushed }
func (e *TagPushed) Subject() string   { return SubjectTagPushed }
func (e *TagPushed) CESubject() string { return e.Repo.FullName + "@" + e.Ref }

// DedupKey names the tag and the object it now points to.
func (e *TagPushed) DedupKey() string {
	return "tag." + RepoKey(e.Repo.FullName) + "." + KeyPart(e.Ref) + "." + e.After
}

func (e *TagDeleted) EventType() string { return TypeTagDeleted }
func (e *TagDeleted) Subject() string   { return SubjectTagDeleted }
func (e *TagDeleted) CESubject() string { return e.Repo.FullName + "@" + e.Ref }

// DedupKey is built like BranchDeleted's; the ref tells them apart.
func (e *TagDeleted) DedupKey() string {
	return deletedKey(e.Repo.FullName, e.Ref, e.Before, e.DeliveryID)
}

// deletedKey is "deleted.<repo>.<ref>.<before>", or, when the host did not
// say what the ref pointed to, ".d-<delivery id>" in place of the commit so
// that deleting a re-created ref is a new event.
func deletedKey(repo, ref, before, delivery string) string {
	k := "deleted." + RepoKey(repo) + "." + KeyPart(ref) + "."
	if before != "" {
		return k + before
	}
	return k + "d-" + KeyPart(delivery)
}
