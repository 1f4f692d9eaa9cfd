#ifndef MATHD_H
#define MATHD_H
double vec_norm(const double *v, int n);
double mat_norm(const double *v, int n);
double quat_norm(const double *v, int n);
double noise_norm(const double *v, int n);
double color_norm(const double *v, int n);
double rect_norm(const double *v, int n);
struct sample { const char *name; double value; };
int parse_sample(const char *line, struct sample *out);
#endif
