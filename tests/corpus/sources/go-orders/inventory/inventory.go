package inventory

import "errors"

var ErrInsufficient = errors.New("insufficient stock")

type Store struct{ levels map[string]int }

func New() *Store { return &Store{levels: map[string]int{}} }

func (s *Store) Add(sku string, n int) { s.levels[sku] += n }

func (s *Store) Take(sku string, n int) error {
	if s.levels[sku] < n {
		return ErrInsufficient
	}
	s.levels[sku] -= n
	return nil
}

func (s *Store) Level(sku string) int { return s.levels[sku] }
