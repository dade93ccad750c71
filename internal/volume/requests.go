package volume

// CreateRequest asks for a volume. Zero values are "not given".
type CreateRequest struct {
	Name        *string
	Description *string
	// Size in GiB; 0 takes the source's size (snapshot, source volume,
	// or the image's min_disk/size rounded up).
	Size             int
	AvailabilityZone string
	VolumeType       string // name or id; "" for the project's default
	ImageID          string
	SnapshotID       string
	SourceVolID      string
	Metadata         map[string]string
	Multiattach      bool
	// ID is for callers making the volume's id themselves (tests).
	ID string
}

// SortKey is one sort key and direction ("asc"/"desc").
type SortKey struct {
	Key string
	Dir string
}

// ListOptions filter, order and page a volume listing.
type ListOptions struct {
	// AllTenants lists every project's volumes (the API checks the
	// caller may); ProjectID then narrows to one project.
	AllTenants bool
	ProjectID  string
	// Filters are Cinder's exact-match filters: name, status, bootable,
	// availability_zone, volume_type (name or id), id, user_id,
	// multiattach, migration_status, group_id (never matches),
	// consumes_quota...; an unknown key matches nothing.
	Filters map[string]string
	// Like are the 3.34 inexact filters (name~ ...): substring matches.
	Like map[string]string
	// Metadata matches volumes having every key=value.
	Metadata map[string]string
	// ImageMetadata matches volume_image_metadata key=value.
	ImageMetadata map[string]string
	// Sort defaults to created_at desc, id desc; id is always the final
	// tie break.
	Sort   []SortKey
	Marker string
	Limit  int // 0: no limit
	Offset int
}

// UpdateRequest changes a volume's name, description or metadata.
type UpdateRequest struct {
	Name        *string
	Description *string
	Metadata    map[string]string // replaces when not nil
}

// DeleteOptions are the flags of a volume delete.
type DeleteOptions struct {
	Cascade bool // delete the volume's snapshots too
	Force   bool // os-force_delete / force=True (admin)
}

// ResetStatusRequest is os-reset_status (nil: unchanged).
type ResetStatusRequest struct {
	Status          *string
	AttachStatus    *string
	MigrationStatus *string
}

// UploadRequest is os-volume_upload_image.
type UploadRequest struct {
	ImageName       string
	DiskFormat      string // raw default
	ContainerFormat string // bare default
	Force           bool   // upload an in-use volume (with Config.EnableForceUpload)
	Visibility      string // 3.1; private default
	Protected       bool
}

// UploadResult is os-volume_upload_image's answer.
type UploadResult struct {
	Volume          *Volume
	ImageID         string
	ImageName       string
	DiskFormat      string
	ContainerFormat string
	Visibility      string
	Protected       bool
	UpdatedAt       string
}

// AttachRequest is the old flow's os-attach.
type AttachRequest struct {
	InstanceUUID string
	HostName     string
	Mountpoint   string
	Mode         string // rw default
}

// AttachmentCreate is the attachments API's create (3.27).
type AttachmentCreate struct {
	VolumeID     string
	InstanceUUID string
	// Connector, when given, connects at once (status attaching and
	// connection_info set).
	Connector map[string]any
	Mode      string // 3.54; null means rw
}

// AttachmentListOptions filter and page the attachments listing.
type AttachmentListOptions struct {
	AllTenants bool
	ProjectID  string
	Filters    map[string]string // volume_id, instance_id, status, attach_status
	Sort       []SortKey
	Marker     string
	Limit      int
	Offset     int
}

// SnapshotCreate asks for a snapshot.
type SnapshotCreate struct {
	VolumeID    string
	Name        *string
	Description *string
	Force       bool
	Metadata    map[string]string
}

// SnapshotListOptions filter and page snapshots.
type SnapshotListOptions struct {
	AllTenants bool
	ProjectID  string
	Filters    map[string]string // name, status, volume_id, id
	Metadata   map[string]string
	Like       map[string]string
	Sort       []SortKey
	Marker     string
	Limit      int
	Offset     int
}

// SnapshotUpdate changes a snapshot's name or description.
type SnapshotUpdate struct {
	Name        *string
	Description *string
}

// TypeCreate asks for a volume type.
type TypeCreate struct {
	Name        string
	Description *string
	IsPublic    *bool // default true
	ExtraSpecs  map[string]string
}

// TypeUpdate changes a volume type.
type TypeUpdate struct {
	Name        *string
	Description *string
	IsPublic    *bool
}

// TypeListOptions filter the types listing. A non-admin sees the public
// types and the private ones shared with the project.
type TypeListOptions struct {
	// IsPublic: nil lists both (admins; "None" in Cinder's query),
	// otherwise only public or only private types.
	IsPublic   *bool
	ExtraSpecs map[string]string
	Sort       []SortKey
	Marker     string
	Limit      int
	Offset     int
}
