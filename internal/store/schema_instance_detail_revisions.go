package store

// schemaInstanceDetailRevisions raises a server's revision (see
// schemaInstanceRevisions) whenever its metadata or tags change, so a
// server decoded at one revision is known to carry the metadata and tags
// it had then, and the server listing and show keep them with the row.
// Each UPDATE of a server row raises its revision by exactly one
// (the instances trigger sees to that), so one change of a metadata
// item or tag raises it once; an UPDATE moving a row to another server
// raises both.
var schemaInstanceDetailRevisions = migration{18, "instance detail revisions", []string{
	dialectOnly(SQLite, `CREATE TRIGGER instance_metadata_rev_insert AFTER INSERT ON instance_metadata FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id = NEW.instance_id; END`),
	dialectOnly(SQLite, `CREATE TRIGGER instance_metadata_rev_update AFTER UPDATE ON instance_metadata FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id IN (OLD.instance_id, NEW.instance_id); END`),
	dialectOnly(SQLite, `CREATE TRIGGER instance_metadata_rev_delete AFTER DELETE ON instance_metadata FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id = OLD.instance_id; END`),
	dialectOnly(SQLite, `CREATE TRIGGER instance_tags_rev_insert AFTER INSERT ON instance_tags FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id = NEW.instance_id; END`),
	dialectOnly(SQLite, `CREATE TRIGGER instance_tags_rev_update AFTER UPDATE ON instance_tags FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id IN (OLD.instance_id, NEW.instance_id); END`),
	dialectOnly(SQLite, `CREATE TRIGGER instance_tags_rev_delete AFTER DELETE ON instance_tags FOR EACH ROW
		BEGIN UPDATE instances SET rev = rev + 1 WHERE id = OLD.instance_id; END`),
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
}}
