package policy

// The rules of kumo's own API (/kumo/v1): fault injection and the
// request inspector, for admins.
const (
	FaultsList   = "kumo:faults:list"
	FaultsCreate = "kumo:faults:create"
	FaultsShow   = "kumo:faults:show"
	FaultsDelete = "kumo:faults:delete"
	FaultsEvents = "kumo:faults:events"
	RequestsList = "kumo:requests:list"
)

func kumoRules() []Rule {
	const admin = "rule:context_is_admin"
	return []Rule{
		{"context_is_admin", "role:admin", nil},
		{FaultsList, admin, []string{"GET /faults"}},
		{FaultsCreate, admin, []string{"POST /faults"}},
		{FaultsShow, admin, []string{"GET /faults/{fault_id}"}},
		{FaultsDelete, admin, []string{"DELETE /faults/{fault_id}"}},
		{FaultsEvents, admin, []string{"GET /faults/events"}},
		{RequestsList, admin, []string{"GET /requests"}},
	}
}

// Kumo is the rule set of kumo's own API: calls no OpenStack service
// has (fault injection, the request inspector), any token scope.
func Kumo() *Set { return NewSet("kumo", kumoRules()) }
