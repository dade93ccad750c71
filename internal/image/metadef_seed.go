package image

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/store"
)

// The standard namespaces a fresh cloud starts with. Glance loads its
// catalog from etc/metadefs (glance-manage db load_metadefs); kumo's is
// smaller and written here: only the properties kumo's own compute reads
// from images or checks in flavor extra specs, under Glance's namespace
// names, so Horizon-style clients find them where they look.

// Resource types the catalog describes.
const (
	ResourceImage  = "OS::Glance::Image"
	ResourceVolume = "OS::Cinder::Volume"
	ResourceFlavor = "OS::Nova::Flavor"
	ResourceServer = "OS::Nova::Server"
)

var seedResourceTypes = []string{ResourceVolume, ResourceImage, ResourceFlavor, ResourceServer}

func strp(s string) *string { return &s }

// prop is a property definition document.
func prop(title, typ, description string, extra map[string]any) MetadefProperty {
	doc := map[string]any{"title": title, "type": typ, "description": description}
	for k, v := range extra {
		doc[k] = v
	}
	return MetadefProperty{Schema: doc}
}

func named(name string, p MetadefProperty) MetadefProperty { p.Name = name; return p }

// hwAssociations are the usual associations of a hardware namespace:
// hw_ on images (and volumes' image metadata), hw: on flavors.
func hwAssociations() []ResourceTypeAssociation {
	return []ResourceTypeAssociation{
		{Name: ResourceImage, Prefix: strp("hw_")},
		{Name: ResourceVolume, Prefix: strp("hw_"), PropertiesTarget: strp("image")},
		{Name: ResourceFlavor, Prefix: strp("hw:")},
	}
}

func seedNamespaces() []NamespaceRequest {
	diskBuses := []any{"fdc", "ide", "sata", "scsi", "usb", "virtio", "xen", "lxc", "uml"}
	return []NamespaceRequest{
		{
			Namespace: "OS::Glance::CommonImageProperties", DisplayName: strp("Common Image Properties"),
			Description:   strp("When adding an image to Glance, you may specify some common image properties that may prove useful to consumers of your image."),
			ResourceTypes: []ResourceTypeAssociation{{Name: ResourceImage}},
			Properties: []MetadefProperty{
				named("kernel_id", prop("Kernel ID", "string", "ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.",
					map[string]any{"pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"})),
				named("ramdisk_id", prop("Ramdisk ID", "string", "ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.",
					map[string]any{"pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"})),
				named("instance_uuid", prop("Instance ID", "string", "Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)", nil)),
				named("architecture", prop("CPU Architecture", "string", "The CPU architecture that must be supported by the hypervisor.", nil)),
				named("os_distro", prop("OS Distro", "string", "The common name of the operating system distribution in lowercase.", nil)),
				named("os_version", prop("OS Version", "string", "Operating system version as specified by the distributor.", nil)),
			},
		},
		{
			Namespace: "OS::Compute::LibvirtImage", DisplayName: strp("libvirt Driver Options for Images"),
			Description:   strp("The libvirt compute driver options: the image properties kumo's guests boot with."),
			ResourceTypes: []ResourceTypeAssociation{{Name: ResourceImage}},
			Properties: []MetadefProperty{
				named("os_command_line", prop("Kernel Command Line", "string", "The kernel command line to be used by the libvirt driver, instead of the default. Used with kernel_id and ramdisk_id.", nil)),
				named("hw_rescue_bus", prop("Rescue Bus", "string", "The bus the rescue disk is attached on (stable rescue).", map[string]any{"enum": diskBuses})),
				named("hw_rescue_device", prop("Rescue Device", "string", "The kind of device the rescue image is attached as (stable rescue).",
					map[string]any{"enum": []any{"cdrom", "disk", "floppy", "fs", "lun"}})),
			},
		},
		{
			Namespace: "OS::Compute::Libvirt", DisplayName: strp("libvirt Driver Options"),
			Description:   strp("The libvirt compute driver options. These are properties specific to compute drivers."),
			ResourceTypes: []ResourceTypeAssociation{{Name: ResourceImage, Prefix: strp("hw_")}, {Name: ResourceFlavor, Prefix: strp("hw:")}},
			Properties: []MetadefProperty{
				named("boot_menu", prop("Boot Menu", "string", "If true, enables the BIOS bootmenu.", map[string]any{"enum": []any{"true", "false"}})),
				named("serial_port_count", prop("Serial Port Count", "integer", "Specifies the count of serial ports.", map[string]any{"minimum": 0})),
			},
		},
		{
			Namespace: "OS::Compute::VirtCPUTopology", DisplayName: strp("Virtual CPU Topology"),
			Description:   strp("This provides the preferred socket/core/thread counts for the virtual CPU instance exposed to guests."),
			ResourceTypes: hwAssociations(),
			Properties: []MetadefProperty{
				named("cpu_sockets", prop("vCPU Sockets", "integer", "Preferred number of sockets to expose to the guest.", map[string]any{"minimum": 1})),
				named("cpu_cores", prop("vCPU Cores", "integer", "Preferred number of cores to expose to the guest.", map[string]any{"minimum": 1})),
				named("cpu_threads", prop("vCPU Threads", "integer", "Preferred number of threads to expose to the guest.", map[string]any{"minimum": 1})),
				named("cpu_max_sockets", prop("Max vCPU Sockets", "integer", "Maximum number of sockets to expose to the guest.", map[string]any{"minimum": 1})),
				named("cpu_max_cores", prop("Max vCPU Cores", "integer", "Maximum number of cores to expose to the guest.", map[string]any{"minimum": 1})),
				named("cpu_max_threads", prop("Max vCPU Threads", "integer", "Maximum number of threads to expose to the guest.", map[string]any{"minimum": 1})),
			},
		},
		{
			Namespace: "OS::Compute::Watchdog", DisplayName: strp("Watchdog Behavior"),
			Description:   strp("Compute drivers may enable watchdog behavior over instances: what the hypervisor does when the guest's watchdog fires."),
			ResourceTypes: hwAssociations(),
			Properties: []MetadefProperty{
				named("watchdog_action", prop("Watchdog Action", "string", "For the libvirt driver, you can enable and set the behavior of a virtual hardware watchdog device for each flavor.",
					map[string]any{"enum": []any{"disabled", "reset", "poweroff", "pause", "none"}})),
			},
		},
		{
			Namespace: "OS::Compute::RandomNumberGenerator", DisplayName: strp("Random Number Generator"),
			Description:   strp("If a random-number generator device has been added to the instance through its image properties, the device can be enabled and configured."),
			ResourceTypes: []ResourceTypeAssociation{{Name: ResourceFlavor, Prefix: strp("hw_rng:")}},
			Properties: []MetadefProperty{
				named("allowed", prop("Random Number Generator Allowed", "boolean", "Whether a random-number generator device may be added to the instance.", nil)),
				named("rate_bytes", prop("Random number generator limits.", "integer", "Allowed amount of bytes that the guest can read from the host's entropy per period.", map[string]any{"minimum": 0})),
				named("rate_period", prop("Random number generator read period.", "integer", "Duration of the read period in milliseconds.", map[string]any{"minimum": 0})),
			},
		},
		{
			Namespace: "OS::Compute::Quota", DisplayName: strp("Flavor Quota"),
			Description:   strp("Compute drivers may enable quotas on CPUs available to a VM, disk tuning, bandwidth I/O, and instance VIF traffic control."),
			ResourceTypes: []ResourceTypeAssociation{{Name: ResourceFlavor}},
			Objects: []MetadefObject{{
				Name: "CPU Limits", Description: strp("You can configure the CPU limits with control parameters."),
				Properties: map[string]map[string]any{
					"quota:cpu_period": prop("Quota: CPU Period", "integer", "Specifies the enforcement interval (unit: microseconds) for QEMU and LXC hypervisors.",
						map[string]any{"minimum": 1000, "maximum": 1000000}).Schema,
					"quota:cpu_quota":  prop("Quota: CPU Quota", "integer", "Specifies the maximum allowed bandwidth (unit: microseconds).", nil).Schema,
					"quota:cpu_shares": prop("Quota: CPU Shares", "integer", "Specifies the proportional weighted share for the domain.", nil).Schema,
				},
			}},
		},
	}
}

// SeedMetadefs loads kumo's standard namespaces, public and protected and
// owned by owner (the admin project), once: when the catalog has no
// resource types yet. (Resource types are never deleted, so a namespace
// an admin removes stays removed.)
func (s *Service) SeedMetadefs(ctx context.Context, owner string) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM metadef_resource_types`).Scan(&n); err != nil {
			return fmt.Errorf("look for metadata definitions: %w", err)
		}
		if n > 0 {
			return nil
		}
		now := store.Now()
		for _, rt := range seedResourceTypes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO metadef_resource_types (name, protected, created_at, updated_at) VALUES (?,TRUE,?,?)`,
				rt, now, now); err != nil {
				return fmt.Errorf("seed resource type %s: %w", rt, err)
			}
		}
		for _, req := range seedNamespaces() {
			ns := &Namespace{ID: uuid.NewString(), Namespace: req.Namespace, DisplayName: req.DisplayName, Description: req.Description,
				Visibility: Public, Protected: true, Owner: owner, CreatedAt: now, UpdatedAt: now}
			if err := createNamespace(ctx, tx, ns, req); err != nil {
				return fmt.Errorf("seed namespace %s: %w", req.Namespace, err)
			}
		}
		return nil
	})
}
