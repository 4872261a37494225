/* A hash table from strings to pointers (open addressing, linear probing,
 * tombstones), for the registries: containers by handle, processes and
 * properties by name.  The table does not own keys or values: a key must
 * stay valid while its entry is in the table (it is usually a field of the
 * value).  Lookups are O(1) on average; iteration order is not insertion
 * order. */
#ifndef GFS_HASH_H
#define GFS_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hash_slot {
	const char *key; /* NULL: empty; HASH_TOMB: removed */
	void *val;
	uint32_t h;
};

typedef struct hash {
	struct hash_slot *slots;
	size_t cap;   /* 0 or a power of two */
	size_t n;     /* live entries */
	size_t tombs; /* removed entries still taking slots */
} hash;

#define HASH_INIT                                                              \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

uint32_t hash_str(const char *s);
void *hash_get(const hash *t, const char *key);
/* Inserts or replaces; returns the old value or NULL. */
void *hash_put(hash *t, const char *key, void *val);
/* Removes; returns the value or NULL. */
void *hash_del(hash *t, const char *key);
void hash_free(hash *t);
/* Iteration: for (size_t i = 0; hash_next(t, &i, &k, &v);) */
bool hash_next(const hash *t, size_t *i, const char **key, void **val);

#endif
