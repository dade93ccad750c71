# A compute-only configuration with a server: an image, a flavor, a key pair
# and a server without a network block (kumo gives the project its private
# network, as Neutron's auto-allocated topology). Beside it: disk.raw.

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

resource "openstack_compute_keypair_v2" "key" {
  name = "tf-key"
}

resource "openstack_compute_instance_v2" "web" {
  name      = "tf-web"
  image_id  = openstack_images_image_v2.disk.id
  flavor_id = openstack_compute_flavor_v2.small.id
  key_pair  = openstack_compute_keypair_v2.key.name
  metadata = {
    role = "web"
  }
}

output "server_id" { value = openstack_compute_instance_v2.web.id }
output "access_ip_v4" { value = openstack_compute_instance_v2.web.access_ip_v4 }
