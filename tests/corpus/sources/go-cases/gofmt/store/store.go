package store

import "sync"

type Store struct {
	mu sync.RWMutex
	data map[string][]byte
}

func New() *Store { return &Store{data: map[string][]byte{}} }

func (s *Store) Get(k string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[k]
	return v, ok
}

func (s *Store) Set(k string, v []byte) {
    s.mu.Lock()
    s.data[k] = v
    s.mu.Unlock()
}
