package compute

import "sync"

// maxParsedTexts bounds each of parsedTexts' maps: texts unique to a
// server (system metadata after some actions) must not grow it forever.
const maxParsedTexts = 1024

// parsedTexts remembers what the JSON texts of server rows (flavors,
// system metadata) parse to, for every request of
// a service: showing one server parsed its flavor with encoding/json each
// time, a tenth of the request. What it holds is shared and read-only.
type parsedTexts struct {
	mu      sync.Mutex
	flavors map[string]FlavorSnapshot
	maps    map[string]map[string]string
}

func newParsedTexts() *parsedTexts {
	return &parsedTexts{flavors: map[string]FlavorSnapshot{}, maps: map[string]map[string]string{}}
}

// cachedParse returns what raw parses to with parse, from cache (one of
// p's maps) when it has been parsed before. A text that fails to parse
// is not remembered.
func cachedParse[T any](p *parsedTexts, cache map[string]T, raw string, parse func(*T) error) (T, error) {
	p.mu.Lock()
	v, ok := cache[raw]
	p.mu.Unlock()
	if ok {
		return v, nil
	}
	if err := parse(&v); err != nil {
		return v, err
	}
	p.mu.Lock()
	if len(cache) >= maxParsedTexts {
		clear(cache)
	}
	cache[raw] = v
	p.mu.Unlock()
	return v, nil
}
