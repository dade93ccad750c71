package compute

import (
	"strings"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/compute"
	"github.com/kumocloud/kumo/internal/mv"
)

// appendServerImage writes {id, links} (plus properties from 2.98), or
// "" for a server booted from a volume. bookmark is the base of the
// image's link.
func appendServerImage(b []byte, c *api.Call, srv *compute.Server, bookmark api.Link) []byte {
	if srv.ImageRef == "" {
		return append(b, `""`...)
	}
	w := api.OpenObject(b)
	w.String("id", srv.ImageRef)
	w.LinksTo("links", srv.ImageRef, bookmark)
	if c.AtLeast(mv.V2_98) {
		w.StringMap("properties", imageMetaProps(srv.SystemMetadata))
	}
	return w.Close()
}

func imageMetaProps(sysmeta map[string]string) map[string]string {
	props := map[string]string{}
	for k, v := range sysmeta {
		if name, ok := strings.CutPrefix(k, "image_"); ok && imageMetaFields[name] {
			props[name] = v
		}
	}
	return props
}

// imageMetaFields are the image properties Nova knows (ImageMetaProps
// fields and their legacy names); from 2.98 a server's image shows those
// of its image's properties, kept in system metadata at boot.
var imageMetaFields = map[string]bool{
	"architecture": true, "auto_disk_config": true, "bdm_v2": true, "bittorrent": true,
	"block_device_mapping": true, "cache_in_nova": true, "hw_architecture": true, "hw_auto_disk_config": true,
	"hw_boot_menu": true, "hw_cdrom_bus": true, "hw_cpu_cores": true, "hw_cpu_max_cores": true,
	"hw_cpu_max_sockets": true, "hw_cpu_max_threads": true, "hw_cpu_policy": true, "hw_cpu_realtime_mask": true,
	"hw_cpu_sockets": true, "hw_cpu_thread_policy": true, "hw_cpu_threads": true, "hw_device_id": true,
	"hw_disk_bus": true, "hw_disk_type": true, "hw_emulation_architecture": true,
	"hw_ephemeral_encryption": true, "hw_ephemeral_encryption_format": true,
	"hw_ephemeral_encryption_secret_uuid": true, "hw_firmware_stateless": true, "hw_firmware_type": true,
	"hw_floppy_bus": true, "hw_input_bus": true, "hw_ipxe_boot": true, "hw_locked_memory": true,
	"hw_machine_type": true, "hw_maxphysaddr_bits": true, "hw_maxphysaddr_mode": true,
	"hw_mem_encryption": true, "hw_mem_encryption_model": true, "hw_mem_page_size": true, "hw_numa_cpus": true,
	"hw_numa_mem": true, "hw_numa_nodes": true, "hw_pci_numa_affinity_policy": true, "hw_pmu": true,
	"hw_pointer_model": true, "hw_qemu_guest_agent": true, "hw_redirected_usb_ports": true,
	"hw_rescue_bus": true, "hw_rescue_device": true, "hw_rng_model": true, "hw_scsi_model": true,
	"hw_serial_port_count": true, "hw_sound_model": true, "hw_time_hpet": true, "hw_tpm_model": true,
	"hw_tpm_version": true, "hw_usb_model": true, "hw_video_model": true, "hw_video_ram": true,
	"hw_vif_model": true, "hw_vif_multiqueue_enabled": true, "hw_viommu_model": true,
	"hw_virtio_packed_ring": true, "hw_vm_mode": true, "hw_watchdog_action": true, "hypervisor_type": true,
	"hypervisor_version_requires": true, "img_bdm_v2": true, "img_bittorrent": true,
	"img_block_device_mapping": true, "img_cache_in_nova": true, "img_compression_level": true,
	"img_config_drive": true, "img_hide_hypervisor_id": true, "img_hv_requested_version": true,
	"img_hv_type": true, "img_linked_clone": true, "img_mappings": true, "img_owner_id": true,
	"img_root_device_name": true, "img_signature": true, "img_signature_certificate_uuid": true,
	"img_signature_hash_method": true, "img_signature_key_type": true, "img_use_agent": true,
	"img_version": true, "ipxe_boot": true, "mappings": true, "os_admin_user": true, "os_command_line": true,
	"os_distro": true, "os_require_quiesce": true, "os_secure_boot": true,
	"os_skip_agent_inject_files_at_boot": true, "os_skip_agent_inject_ssh": true, "os_type": true,
	"owner_id": true, "root_device_name": true, "traits_required": true, "vm_mode": true,
	"vmware_disktype": true, "vmware_image_version": true, "vmware_linked_clone": true, "vmware_ostype": true,
	"xenapi_device_id": true, "xenapi_image_compression_level": true,
	"xenapi_skip_agent_inject_files_at_boot": true, "xenapi_skip_agent_inject_ssh": true,
	"xenapi_use_agent": true,
}
