// Package e2e drives a real `kumo serve` process with real OpenStack
// clients: the openstack CLI (python-openstackclient), gophercloud v2, and
// OpenTofu with the Terraform OpenStack provider.
// The helpers here start and stop kumo, run the CLI against the
// clouds.yaml kumo writes, and build gophercloud clients from it; the
// tests beside them assert on what those clients print and return.
//
// The tests need the openstack CLI on PATH and a PostgreSQL server
// (KUMO_TEST_POSTGRES); scripts/test provides both, and builds OpenTofu and
// the provider (scripts/build-tofu) for the Terraform tests, naming them in
// KUMO_TOFU and KUMO_TF_MIRROR (without KUMO_TOFU those tests skip).
package e2e
