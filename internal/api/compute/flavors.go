package compute

import "github.com/kumocloud/kumo/internal/api"

func (h *handlers) flavorRoutes() []api.Route { return nil }
