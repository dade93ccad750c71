package store

// schemaFloatingIPRouter indexes floating IPs by the router that serves
// them: every compute host on bridge networking reads its routers'
// floating IPs twice a second (network.Service.Dataplane).
var schemaFloatingIPRouter = migration{57, "floating ips by router", []string{
	`CREATE INDEX floating_ips_router ON floating_ips (router_id)`,
}}
