package store

// schemaInstanceDetailRevisions raises a server's revision (see
// schemaInstanceRevisions) whenever its metadata or tags change, so a
// server decoded at one revision is known to carry the metadata and tags
// it had then, and the server listing and show keep them with the row.
// Each UPDATE of a server row raises its revision by exactly one
// (the instances trigger sees to that), so one change of a metadata
// item or tag raises it once; an UPDATE moving a row to another server
// raises both.
var schemaInstanceDetailRevisions = migration{18, "instance detail revisions", append(append(
	sqliteDetailRevTriggers("instance_metadata"),
	sqliteDetailRevTriggers("instance_tags")...),
	dialectOnly(Postgres, `CREATE FUNCTION instance_details_bump_rev() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP = 'DELETE' THEN
				UPDATE instances SET rev = rev + 1 WHERE id = OLD.instance_id;
				RETURN NULL;
			END IF;
			IF TG_OP = 'UPDATE' AND OLD.instance_id <> NEW.instance_id THEN
				UPDATE instances SET rev = rev + 1 WHERE id = OLD.instance_id;
			END IF;
			UPDATE instances SET rev = rev + 1 WHERE id = NEW.instance_id;
			RETURN NULL;
		END $$`),
	dialectOnly(Postgres, `CREATE TRIGGER instance_metadata_rev AFTER INSERT OR UPDATE OR DELETE ON instance_metadata
		FOR EACH ROW EXECUTE FUNCTION instance_details_bump_rev()`),
	dialectOnly(Postgres, `CREATE TRIGGER instance_tags_rev AFTER INSERT OR UPDATE OR DELETE ON instance_tags
		FOR EACH ROW EXECUTE FUNCTION instance_details_bump_rev()`),
)}

// sqliteDetailRevTriggers are SQLite's triggers raising the revision of
// the servers whose rows in table (metadata or tags) change.
func sqliteDetailRevTriggers(table string) []string {
	return []string{
		dialectOnly(SQLite, `CREATE TRIGGER `+table+`_rev_insert AFTER INSERT ON `+table+` FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id = NEW.instance_id; END`),
		dialectOnly(SQLite, `CREATE TRIGGER `+table+`_rev_update AFTER UPDATE ON `+table+` FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id IN (OLD.instance_id, NEW.instance_id); END`),
		dialectOnly(SQLite, `CREATE TRIGGER `+table+`_rev_delete AFTER DELETE ON `+table+` FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id = OLD.instance_id; END`),
	}
}
