package identity

import (
	"encoding/json"
	"fmt"
)

// encodeExtra returns the stored form of extra attributes.
func encodeExtra(extra map[string]any) (string, error) {
	if extra == nil {
		return "{}", nil
	}
	b, err := json.Marshal(extra)
	if err != nil {
		return "", fmt.Errorf("encode extra attributes: %w", err)
	}
	return string(b), nil
}

// decodeExtra reads stored extra attributes.
func decodeExtra(stored string) (map[string]any, error) {
	extra := map[string]any{}
	if err := json.Unmarshal([]byte(stored), &extra); err != nil {
		return nil, fmt.Errorf("decode extra attributes: %w", err)
	}
	return extra, nil
}

// mergeExtra sets the patch's attributes on extra, as Keystone's update does.
func mergeExtra(extra, patch map[string]any) map[string]any {
	if extra == nil {
		extra = map[string]any{}
	}
	for k, v := range patch {
		extra[k] = v
	}
	return extra
}
