# The usual configuration of a project's network with the OpenStack provider
# (issue 19): a network and subnet, a security group with rules, a router
# with a gateway on the external network and an interface on the subnet, a
# port in the security group, a server on that port, and a floating IP on
# the external network associated with it. Beside it: disk.raw.

data "openstack_networking_network_v2" "public" {
  name     = "public"
  external = true
}

resource "openstack_networking_network_v2" "app" {
  name           = "tf-app"
  admin_state_up = true
}

resource "openstack_networking_subnet_v2" "app" {
  name            = "tf-app"
  network_id      = openstack_networking_network_v2.app.id
  cidr            = "192.168.77.0/24"
  ip_version      = 4
  dns_nameservers = ["192.0.2.53"]
}

resource "openstack_networking_secgroup_v2" "web" {
  name        = "tf-web"
  description = "web servers"
}

resource "openstack_networking_secgroup_rule_v2" "http" {
  security_group_id = openstack_networking_secgroup_v2.web.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 80
  port_range_max    = 80
  remote_ip_prefix  = "0.0.0.0/0"
}

resource "openstack_networking_secgroup_rule_v2" "ssh" {
  security_group_id = openstack_networking_secgroup_v2.web.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = "198.51.100.0/24"
}

resource "openstack_networking_router_v2" "edge" {
  name                = "tf-edge"
  external_network_id = data.openstack_networking_network_v2.public.id
}

resource "openstack_networking_router_interface_v2" "app" {
  router_id = openstack_networking_router_v2.edge.id
  subnet_id = openstack_networking_subnet_v2.app.id
}

resource "openstack_networking_port_v2" "web" {
  name               = "tf-web"
  network_id         = openstack_networking_network_v2.app.id
  security_group_ids = [openstack_networking_secgroup_v2.web.id]
  fixed_ip {
    subnet_id  = openstack_networking_subnet_v2.app.id
    ip_address = "192.168.77.10"
  }
}

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

resource "openstack_compute_instance_v2" "web" {
  name      = "tf-web"
  image_id  = openstack_images_image_v2.disk.id
  flavor_id = openstack_compute_flavor_v2.small.id
  network {
    port = openstack_networking_port_v2.web.id
  }
}

resource "openstack_networking_floatingip_v2" "web" {
  pool = data.openstack_networking_network_v2.public.name
}

# The floating IP's port must be on a subnet the router connects to the
# external network, as Neutron checks.
resource "openstack_networking_floatingip_associate_v2" "web" {
  floating_ip = openstack_networking_floatingip_v2.web.address
  port_id     = openstack_networking_port_v2.web.id
  depends_on  = [openstack_networking_router_interface_v2.app, openstack_compute_instance_v2.web]
}

output "server_id" { value = openstack_compute_instance_v2.web.id }
output "fixed_ip" { value = openstack_compute_instance_v2.web.network[0].fixed_ip_v4 }
output "floating_ip" { value = openstack_networking_floatingip_v2.web.address }
output "network_id" { value = openstack_networking_network_v2.app.id }
