package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// parse reads an oslo.policy check string.
func parse(s string) (check, error) {
	toks := tokenize(s)
	if len(toks) == 0 {
		return constCheck(true), nil // an empty rule allows anyone
	}
	p := &parser{toks: toks}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in %q", p.toks[p.pos], s)
	}
	return c, nil
}

// tokenize splits on white space and peels parentheses off the words, as
// oslo.policy's parser does.
func tokenize(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		lead := len(w) - len(strings.TrimLeft(w, "("))
		for range lead {
			out = append(out, "(")
		}
		w = w[lead:]
		trail := 0
		for strings.HasSuffix(w, ")") {
			w = w[:len(w)-1]
			trail++
		}
		if w != "" {
			out = append(out, w)
		}
		for range trail {
			out = append(out, ")")
		}
	}
	return out
}

type parser struct {
	toks []string
	pos  int
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) or() (check, error) {
	c, err := p.and()
	if err != nil {
		return nil, err
	}
	alts := orCheck{c}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		c, err := p.and()
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func (p *parser) and() (check, error) {
	c, err := p.not()
	if err != nil {
		return nil, err
	}
	all := andCheck{c}
	for strings.EqualFold(p.peek(), "and") {
		p.pos++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		all = append(all, c)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func (p *parser) not() (check, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.pos++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCheck{c}, nil
	}
	return p.atom()
}

func (p *parser) atom() (check, error) {
	tok := p.peek()
	switch tok {
	case "":
		return nil, fmt.Errorf("check string ends early")
	case "(":
		p.pos++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return c, nil
	case ")":
		return nil, fmt.Errorf("unexpected )")
	}
	p.pos++
	return parseCheck(tok)
}

// parseCheck reads one check: @, !, rule:NAME, role:NAME or KEY:MATCH.
func parseCheck(tok string) (check, error) {
	switch tok {
	case "@":
		return constCheck(true), nil
	case "!":
		return constCheck(false), nil
	}
	kind, match, ok := strings.Cut(tok, ":")
	if !ok {
		return nil, fmt.Errorf("check %q has no kind", tok)
	}
	switch kind {
	case "rule":
		return ruleCheck(match), nil
	case "role":
		return roleCheck(match), nil
	case "field":
		return parseFieldCheck(match)
	}
	if v, ok := literalKey(kind); ok {
		return genericCheck{key: v, literal: true, match: match}, nil
	}
	return genericCheck{key: kind, match: match}, nil
}

// parseFieldCheck reads Neutron's field check, RESOURCE:FIELD=VALUE
// ("networks:shared=True"): the target's FIELD must be VALUE.
func parseFieldCheck(match string) (check, error) {
	_, fv, ok := strings.Cut(match, ":")
	field, value, hasValue := strings.Cut(fv, "=")
	if !ok || !hasValue || field == "" {
		return nil, fmt.Errorf("field check %q is not RESOURCE:FIELD=VALUE", match)
	}
	if re, ok := strings.CutPrefix(value, "~"); ok {
		pattern, err := regexp.Compile(re)
		if err != nil {
			return nil, fmt.Errorf("field check %q: %w", match, err)
		}
		return fieldCheck{field: field, pattern: pattern}, nil
	}
	return fieldCheck{field: field, value: value}, nil
}
