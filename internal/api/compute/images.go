package compute

import "github.com/kumocloud/kumo/internal/api"

func (h *handlers) imageRoutes() []api.Route { return nil }
