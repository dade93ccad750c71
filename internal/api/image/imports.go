package image

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/kumocloud/kumo/internal/api"
	"github.com/kumocloud/kumo/internal/errs"
	"github.com/kumocloud/kumo/internal/image"
)

// Interoperable import: staging, the import call, and the tasks that
// record imports. Glance checks stage and import against modify_image
// (the image's owner) and guards the tasks API with tasks_api_access.
func (h *handlers) importRoutes() []api.Route {
	return []api.Route{
		{Method: "PUT", Path: "/v2/images/{image_id}/stage", Rule: "modify_image", Handler: h.stage},
		{Method: "POST", Path: "/v2/images/{image_id}/import", Rule: "modify_image", Handler: h.importImage},
		{Method: "GET", Path: "/v2/images/{image_id}/tasks", Rule: "get_image", Handler: h.imageTasks},
		{Method: "GET", Path: "/v2/tasks", Rule: "tasks_api_access", Handler: h.listTasks},
		{Method: "POST", Path: "/v2/tasks", Rule: "tasks_api_access", Handler: h.createTask},
		{Method: "GET", Path: "/v2/tasks/{task_id}", Rule: "tasks_api_access", Handler: h.showTask},
		{Method: "DELETE", Path: "/v2/tasks/{task_id}", Rule: "tasks_api_access", Handler: deleteTask},
		{Method: "GET", Path: "/v2/schemas/task", Rule: "kumo:image:get_schemas", Handler: func(*api.Call) (*api.Reply, error) {
			return api.JSON(http.StatusOK, taskSchema(taskProperties(true))), nil
		}},
		{Method: "GET", Path: "/v2/schemas/tasks", Rule: "kumo:image:get_schemas", Handler: func(*api.Call) (*api.Reply, error) {
			return api.JSON(http.StatusOK, tasksSchema()), nil
		}},
	}
}

// stage answers PUT /v2/images/{image_id}/stage: 204 once the data is
// staged.
func (h *handlers) stage(c *api.Call) (*api.Reply, error) {
	if err := checkOctetStream(c); err != nil {
		return nil, err
	}
	expected, err := declaredSize(c)
	if err != nil {
		return nil, err
	}
	if err := h.svc.Stage(c.Ctx, c.Principal, c.Param("image_id"), c.Req.Body, expected); err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusNoContent), nil
}

// importImage answers POST /v2/images/{image_id}/import: 202 once the
// import task is recorded. The body is checked as Glance's deserializer
// does; kumo has one store, so stores and all_stores change nothing.
func (h *handlers) importImage(c *api.Call) (*api.Reply, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errs.Invalid("Body expected in request.")
	}
	method, ok := body["method"].(map[string]any)
	if !ok {
		return nil, errs.Invalid("Import request requires a 'method' field.")
	}
	name, ok := method["name"]
	if !ok {
		return nil, errs.Invalid("Import request requires a 'name' field.")
	}
	nameStr, _ := name.(string)
	if !slices.Contains(image.ImportMethods, nameStr) {
		return nil, errs.Invalid("Unknown import method name '%v'.", name)
	}
	mustSucceed := true
	if v, ok := body["all_stores_must_succeed"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return nil, errs.Invalid("'all_stores_must_succeed' must be boolean value only")
		}
		mustSucceed = b
	}
	if v, ok := body["all_stores"]; ok {
		if _, isBool := v.(bool); !isBool {
			return nil, errs.Invalid("'all_stores' must be boolean value only")
		}
	}
	uri, _ := method["uri"].(string)
	_, err := h.svc.Import(c.Ctx, c.Principal, c.Param("image_id"), image.ImportRequest{
		Method: nameStr, URI: uri, AllStoresMustSucceed: mustSucceed, Body: body, RequestID: c.RequestID})
	if err != nil {
		return nil, err
	}
	return api.NoContent(http.StatusAccepted), nil
}

// imageTasks answers GET /v2/images/{image_id}/tasks: the image's tasks
// as Glance's database returns them.
func (h *handlers) imageTasks(c *api.Call) (*api.Reply, error) {
	tasks, err := h.svc.ImageTasks(c.Ctx, c.Principal, c.Param("image_id"))
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(tasks))
	for i, t := range tasks {
		out[i] = imageTaskView(t)
	}
	return api.JSON(http.StatusOK, map[string]any{"tasks": out}), nil
}

// listTasks answers GET /v2/tasks.
func (h *handlers) listTasks(c *api.Call) (*api.Reply, error) {
	q := c.Query()
	o := image.TaskListOptions{Status: q.Get("status"), Type: q.Get("type"), SortKey: q.Get("sort_key"),
		SortDir: q.Get("sort_dir"), Marker: q.Get("marker")}
	if _, err := uuid.Parse(o.Marker); o.Marker != "" && err != nil {
		return nil, errs.Invalid("Invalid marker format")
	}
	if v := q.Get("limit"); q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, errs.Invalid("limit param must be an integer")
		}
		if n < 0 {
			return nil, errs.Invalid("limit param must be positive")
		}
		o.Limit = max(n, 0)
		if n == 0 {
			// Glance passes 0 on as a limit of nothing.
			return api.JSON(http.StatusOK, tasksPage(q, nil, "")), nil
		}
	}
	tasks, more, err := h.svc.ListTasks(c.Ctx, c.Principal, o)
	if err != nil {
		return nil, err
	}
	next := ""
	if more && len(tasks) > 0 {
		next = tasks[len(tasks)-1].ID
	}
	return api.JSON(http.StatusOK, tasksPage(q, tasks, next)), nil
}

// tasksPage is Glance's task list body: stubs, the first page's link
// with the query as sent (less the marker), the next page's when full.
func tasksPage(q url.Values, tasks []*image.Task, next string) map[string]any {
	params := url.Values{}
	for k, v := range q {
		if k != "marker" {
			params[k] = v
		}
	}
	stubs := make([]map[string]any, len(tasks))
	for i, t := range tasks {
		stubs[i] = taskStubView(t)
	}
	body := map[string]any{"tasks": stubs, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
	if len(params) > 0 {
		body["first"] = "/v2/tasks?" + params.Encode()
	}
	if next != "" {
		params.Set("marker", next)
		body["next"] = "/v2/tasks?" + params.Encode()
	}
	return body
}

// showTask answers GET /v2/tasks/{task_id}.
func (h *handlers) showTask(c *api.Call) (*api.Reply, error) {
	t, err := h.svc.GetTask(c.Ctx, c.Principal, c.Param("task_id"))
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusOK, taskView(t)), nil
}

// createTask answers POST /v2/tasks, the deprecated tasks API's create.
func (h *handlers) createTask(c *api.Call) (*api.Reply, error) {
	var body map[string]any
	if err := c.DecodeJSON(&body); err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errs.Invalid("Body expected in request.")
	}
	for _, k := range []string{"type", "input"} {
		if _, ok := body[k]; !ok {
			return nil, errs.Invalid("Task '%s' is required", k)
		}
	}
	typ, ok := body["type"].(string)
	if !ok || !slices.Contains(image.TaskTypes, typ) {
		return nil, errs.Invalid("Provided object does not match schema 'task': %s is not one of %s",
			api.PyRepr(body["type"]), api.PyRepr(anyList(image.TaskTypes)))
	}
	input, ok := body["input"].(map[string]any)
	if !ok && body["input"] != nil {
		return nil, errs.Invalid("Provided object does not match schema 'task': %s is not of type 'null', 'object'", api.PyRepr(body["input"]))
	}
	var imageReq image.CreateRequest
	if typ == image.TaskTypeImport {
		props, _ := input["image_properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		var err error
		if imageReq, err = createRequest(props); err != nil {
			return nil, err
		}
	}
	t, err := h.svc.CreateTask(c.Ctx, c.Principal, typ, input, imageReq, c.RequestID)
	if err != nil {
		return nil, err
	}
	return api.JSON(http.StatusCreated, taskView(t)).WithHeader("Location", "/v2/tasks/"+t.ID), nil
}

// deleteTask answers DELETE /v2/tasks/{task_id}: Glance never deletes
// tasks on request.
func deleteTask(c *api.Call) (*api.Reply, error) {
	ct, body := api.GlanceError(http.StatusMethodNotAllowed, "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property.")
	r := &api.Reply{Status: http.StatusMethodNotAllowed, Raw: body, ContentType: ct}
	return r.WithHeader("Allow", "GET"), nil
}

// taskView is a task as GET /v2/tasks/{id} shows it.
func taskView(t *image.Task) map[string]any {
	v := map[string]any{
		"id": t.ID, "type": t.Type, "status": t.Status, "owner": t.Owner, "message": t.Message,
		"input": t.Input, "result": t.Result,
		"created_at": isoTime(t.CreatedAt), "updated_at": isoTime(t.UpdatedAt),
		"self": "/v2/tasks/" + t.ID, "schema": "/v2/schemas/task",
	}
	if t.ImageID != "" {
		v["image_id"] = t.ImageID
	}
	if t.RequestID != "" {
		v["request_id"] = t.RequestID
	}
	if t.UserID != "" {
		v["user_id"] = t.UserID
	}
	if t.ExpiresAt != nil {
		v["expires_at"] = isoTime(*t.ExpiresAt)
	}
	return v
}

// taskStubView is a task in a list: without input, result and message.
func taskStubView(t *image.Task) map[string]any {
	v := taskView(t)
	for _, k := range []string{"input", "result", "message", "image_id", "request_id", "user_id"} {
		delete(v, k)
	}
	return v
}

// dbTime is how Glance's JSON serializer writes a database datetime:
// no fraction, no zone.
func dbTime(us int64) string { return time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05") }

// imageTaskView is a task as GET /v2/images/{id}/tasks shows it: the
// database record, datetimes and all.
func imageTaskView(t *image.Task) map[string]any {
	var expires any
	if t.ExpiresAt != nil {
		expires = dbTime(*t.ExpiresAt)
	}
	return map[string]any{
		"id": t.ID, "type": t.Type, "status": t.Status, "owner": t.Owner,
		"expires_at": expires, "created_at": dbTime(t.CreatedAt), "updated_at": dbTime(t.UpdatedAt),
		"deleted_at": nil, "deleted": false,
		"image_id": nilIfEmpty(t.ImageID), "request_id": nilIfEmpty(t.RequestID), "user_id": nilIfEmpty(t.UserID),
		"input": t.Input, "result": t.Result, "message": t.Message,
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// taskProperties is Glance's task schema; partial leaves out what task
// lists do not show.
func taskProperties(full bool) obj {
	p := obj{
		"id":         obj{"description": "An identifier for the task", "pattern": uuidPattern, "type": "string"},
		"type":       obj{"description": "The type of task represented by this content", "enum": image.TaskTypes, "type": "string"},
		"status":     obj{"description": "The current status of this task", "enum": image.TaskStatuses, "type": "string"},
		"owner":      obj{"description": "An identifier for the owner of this task", "type": "string"},
		"image_id":   obj{"description": "Image associated with the task", "type": "string"},
		"request_id": obj{"description": "Human-readable informative request-id", "type": "string"},
		"user_id":    obj{"description": "User associated with the task", "type": "string"},
		"expires_at": obj{"description": "Datetime when this resource would be subject to removal", "type": nullOrString},
		"created_at": obj{"description": "Datetime when this resource was created", "type": "string"},
		"updated_at": obj{"description": "Datetime when this resource was updated", "type": "string"},
		"self":       obj{"readOnly": true, "type": "string"},
		"schema":     obj{"readOnly": true, "type": "string"},
	}
	if full {
		p["input"] = obj{"description": "The parameters required by task, JSON blob", "type": []string{"null", "object"}}
		p["result"] = obj{"description": "The result of current task, JSON blob", "type": []string{"null", "object"}}
		p["message"] = obj{"description": "Human-readable informative message only included when appropriate (usually on failure)", "type": "string"}
	}
	return p
}

func taskSchema(props obj) map[string]any {
	return obj{"name": "task", "properties": props, "additionalProperties": false}
}

func tasksSchema() map[string]any {
	return obj{
		"name": "tasks",
		"properties": obj{
			"tasks":  obj{"type": "array", "items": taskSchema(taskProperties(false))},
			"first":  obj{"type": "string"},
			"next":   obj{"type": "string"},
			"schema": obj{"type": "string"},
		},
		"links": []obj{
			{"rel": "first", "href": "{first}"},
			{"rel": "next", "href": "{next}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
