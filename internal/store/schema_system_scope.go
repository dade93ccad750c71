package store

// schemaSystemScope lets a token be scoped to the system (Keystone's
// system: {all: true}), and gives clouds bootstrapped before it what
// keystone-manage bootstrap gives: the bootstrap admin holds admin on the
// system, admin implies member and member implies reader (the manager
// role and admin ⇒ manager come with the next start's bootstrap).
var schemaSystemScope = migration{44, "system scope", []string{
	`ALTER TABLE tokens ADD COLUMN system_scope TEXT NOT NULL DEFAULT ''`,
	`INSERT INTO role_assignments (actor_type, actor_id, target_type, target_id, role_id, inherited)
		SELECT 'user', u.id, 'system', 'system', r.id, FALSE
		FROM users u JOIN roles r ON r.domain_id = '' AND r.name = 'admin'
		WHERE u.domain_id = 'default' AND u.name = 'admin'
		ON CONFLICT DO NOTHING`,
	`INSERT INTO implied_roles (prior_role_id, implied_role_id)
		SELECT p.id, i.id FROM roles p JOIN roles i ON i.domain_id = '' AND i.name = 'member'
		WHERE p.domain_id = '' AND p.name = 'admin'
		ON CONFLICT DO NOTHING`,
	`INSERT INTO implied_roles (prior_role_id, implied_role_id)
		SELECT p.id, i.id FROM roles p JOIN roles i ON i.domain_id = '' AND i.name = 'reader'
		WHERE p.domain_id = '' AND p.name = 'member'
		ON CONFLICT DO NOTHING`,
}}
