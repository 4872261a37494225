/* lib/hash.h: open addressing with linear probing.  The table grows to
 * keep live entries and tombstones under 3/4 of the slots, rehashing from
 * the stored hashes (keys are not re-read). */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/hash.h"

static const char tomb_mark;
#define HASH_TOMB (&tomb_mark)

uint32_t hash_str(const char *s)
{
	/* FNV-1a */
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct hash_slot *find(const hash *t, const char *key, uint32_t h)
{
	if (!t->cap)
		return NULL;
	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		struct hash_slot *s = &t->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != HASH_TOMB && s->h == h &&
		    strcmp(s->key, key) == 0)
			return s;
	}
}

static void grow(hash *t)
{
	size_t cap = t->cap ? t->cap : 8;
	while ((t->n + 1) * 4 >= cap * 3)
		cap *= 2;
	struct hash_slot *old = t->slots;
	size_t ocap = t->cap;
	t->slots = xcalloc(cap, sizeof *t->slots);
	t->cap = cap;
	t->tombs = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key || old[i].key == HASH_TOMB)
			continue;
		size_t k = old[i].h & (cap - 1);
		while (t->slots[k].key)
			k = (k + 1) & (cap - 1);
		t->slots[k] = old[i];
	}
	free(old);
}

void *hash_get(const hash *t, const char *key)
{
	struct hash_slot *s = find(t, key, hash_str(key));
	return s ? s->val : NULL;
}

void *hash_put(hash *t, const char *key, void *val)
{
	uint32_t h = hash_str(key);
	struct hash_slot *s = find(t, key, h);
	if (s) {
		void *old = s->val;
		s->key = key;
		s->val = val;
		return old;
	}
	if ((t->n + t->tombs + 1) * 4 >= t->cap * 3)
		grow(t);
	size_t i = h & (t->cap - 1);
	while (t->slots[i].key && t->slots[i].key != HASH_TOMB)
		i = (i + 1) & (t->cap - 1);
	if (t->slots[i].key == HASH_TOMB)
		t->tombs--;
	t->slots[i] = (struct hash_slot){key, val, h};
	t->n++;
	return NULL;
}

void *hash_del(hash *t, const char *key)
{
	struct hash_slot *s = find(t, key, hash_str(key));
	if (!s)
		return NULL;
	void *v = s->val;
	s->key = HASH_TOMB;
	s->val = NULL;
	t->n--;
	t->tombs++;
	return v;
}

void hash_free(hash *t)
{
	free(t->slots);
	memset(t, 0, sizeof *t);
}

bool hash_next(const hash *t, size_t *i, const char **key, void **val)
{
	for (; *i < t->cap; (*i)++) {
		struct hash_slot *s = &t->slots[*i];
		if (s->key && s->key != HASH_TOMB) {
			if (key)
				*key = s->key;
			if (val)
				*val = s->val;
			(*i)++;
			return true;
		}
	}
	return false;
}
