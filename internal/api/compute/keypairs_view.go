package compute

import (
	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/keypair"
	"github.com/kumocloud/kumo/internal/mv"
)

// keypairBrief is a key pair as index shows it; type appears from 2.2.
func keypairBrief(c *api.Call, kp *keypair.KeyPair) map[string]any {
	v := map[string]any{"name": kp.Name, "public_key": kp.PublicKey, "fingerprint": kp.Fingerprint}
	if c.AtLeast(mv.V2_2) {
		v["type"] = kp.Type
	}
	return v
}

// keypairDetail is a key pair as show returns it, with the soft-delete
// fields Nova still exposes (never set: key pairs are hard deleted).
func keypairDetail(c *api.Call, kp *keypair.KeyPair) map[string]any {
	v := keypairBrief(c, kp)
	v["user_id"] = kp.UserID
	v["id"] = kp.ID
	v["created_at"] = kp.CreatedAt.UTC().Format(pyDatetimeLayout)
	v["updated_at"] = nil
	v["deleted"] = false
	v["deleted_at"] = nil
	return v
}

// pyDatetimeLayout is how Nova serializes naive datetimes (oslo's
// "%Y-%m-%dT%H:%M:%S.%f").
const pyDatetimeLayout = "2006-01-02T15:04:05.000000"
