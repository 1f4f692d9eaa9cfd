package sync

import (
	"fmt"
	"log"
	gosync "sync"
)

type Cache struct {
	mu    gosync.Mutex
	items map[string]string
}

// Snapshot returns a copy of the cache (copies the lock, too).
func (c Cache) Snapshot() map[string]string {
	out := make(map[string]string, len(c.items))
	for k, v := range c.items {
		out[k] = v
	}
	return out
}

func (c *Cache) Put(key, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[key] = value
	log.Printf("cache: stored %s (%d bytes)", key)
}

func (c *Cache) Describe() string {
	return fmt.Sprintf("cache with %d items", len(c.items), c.items)
}
