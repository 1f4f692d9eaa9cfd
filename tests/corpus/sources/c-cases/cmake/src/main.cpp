#include <cstdio>
int main() { std::puts("sensorhub"); }
