package store

// schemaInstanceRevisions gives every server row a revision that the
// database itself bumps on each UPDATE, whichever code writes the row:
// the server listing keeps decoded rows by number and revision and reads
// whole rows only for servers that changed since. A trigger, not the
// writers, so no UPDATE can forget it. SQLite's runs after the update
// (its BEFORE triggers cannot change NEW) and does not fire itself, as
// recursive_triggers is off. A writer cannot set a revision back: both
// engines make it the old one plus one, so a revision never repeats. The
// list indexes end in the revision, so a page's numbers and revisions
// are still read off an index alone.
var schemaInstanceRevisions = migration{17, "instance revisions", []string{
	`ALTER TABLE instances ADD COLUMN rev BIGINT NOT NULL DEFAULT 0`,
	`DROP INDEX instances_project`,
	`DROP INDEX instances_created`,
	`CREATE INDEX instances_project ON instances (project_id, deleted, created_at, number, vm_state, rev)`,
	`CREATE INDEX instances_created ON instances (deleted, created_at, number, vm_state, rev)`,
	dialectOnly(SQLite, `CREATE TRIGGER instances_rev AFTER UPDATE ON instances FOR EACH ROW
		BEGIN UPDATE instances SET rev = OLD.rev + 1 WHERE rowid = NEW.rowid; END`),
	dialectOnly(Postgres, `CREATE FUNCTION instances_bump_rev() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN NEW.rev := OLD.rev + 1; RETURN NEW; END $$`),
	dialectOnly(Postgres, `CREATE TRIGGER instances_rev BEFORE UPDATE ON instances FOR EACH ROW
		EXECUTE FUNCTION instances_bump_rev()`),
}}
