/* A throwaway driver of runtime/image_unpack.c: unpacks one image spec
 * into a cache and prints the tree's path and the config defaults, or the
 * errno name and reason.  tests/image-smoke.sh runs the cases.  Build:
 *   gcc -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -I. \
 *       -o /tmp/image-smoke tests/image-smoke.c runtime/image_unpack.c \
 *       runtime/image.c runtime/image_proto.c runtime/fsutil.c \
 *       quota/store.c lib/err.c lib/buf.c $(pkg-config --cflags --libs \
 *       jansson)
 *   /tmp/image-smoke SPEC CACHE [devices]
 * The archives go to build/gardenfs-unpack (or $GFS_UNPACK). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/image.h"
#include "runtime/image_unpack.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: image-smoke SPEC CACHE [devices]\n");
		return 2;
	}
	struct rt_image cfg = {0};
	char *dir = NULL;
	gfs_err err = {0};
	const char *helper = getenv("GFS_UNPACK");
	char *def = realpath("build/gardenfs-unpack", NULL);
	if (rt_image_setup(helper ? helper : def ? def : "?", &err) < 0) {
		printf("error %s: %s\n", strerrorname_np(err.code), err.msg);
		return 1;
	}
	free(def);
	bool devices = argc > 3 && !strcmp(argv[3], "devices");
	int r = rt_image_unpack2(argv[1], argv[2], devices, &dir, &cfg, &err);
	if (r < 0) {
		printf("error %s: %s\n", strerrorname_np(-r), err.msg);
		return 1;
	}
	printf("dir %s\n", dir);
	for (char **e = cfg.env; *e; e++)
		printf("env %s\n", *e);
	printf("workdir %s\nuser %s\n", cfg.workdir ? cfg.workdir : "-",
	       cfg.user ? cfg.user : "-");
	free(dir);
	rt_image_free(&cfg);
	return 0;
}
