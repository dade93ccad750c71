# Block storage with the OpenStack provider (issue 20): a volume, a server
# with the volume attached (openstack_compute_volume_attach_v2), and a
# server booted from a volume made from the image (a volume block_device,
# deleted with the server). Beside it: disk.raw.

resource "openstack_images_image_v2" "disk" {
  name             = "tf-disk"
  local_file_path  = "${path.module}/disk.raw"
  container_format = "bare"
  disk_format      = "raw"
}

resource "openstack_compute_flavor_v2" "small" {
  name  = "tf-small"
  ram   = 512
  vcpus = 1
  disk  = 1
}

resource "openstack_blockstorage_volume_v3" "data" {
  name        = "tf-data"
  description = "data disk"
  size        = 2
  metadata = {
    purpose = "data"
  }
}

resource "openstack_compute_instance_v2" "app" {
  name      = "tf-app"
  image_id  = openstack_images_image_v2.disk.id
  flavor_id = openstack_compute_flavor_v2.small.id
}

resource "openstack_compute_volume_attach_v2" "data" {
  instance_id = openstack_compute_instance_v2.app.id
  volume_id   = openstack_blockstorage_volume_v3.data.id
}

resource "openstack_compute_instance_v2" "bfv" {
  name      = "tf-bfv"
  flavor_id = openstack_compute_flavor_v2.small.id
  block_device {
    uuid                  = openstack_images_image_v2.disk.id
    source_type           = "image"
    destination_type      = "volume"
    volume_size           = 1
    boot_index            = 0
    delete_on_termination = true
  }
}

output "volume_id" { value = openstack_blockstorage_volume_v3.data.id }
output "app_id" { value = openstack_compute_instance_v2.app.id }
output "bfv_id" { value = openstack_compute_instance_v2.bfv.id }
output "attachment_device" { value = openstack_compute_volume_attach_v2.data.device }
