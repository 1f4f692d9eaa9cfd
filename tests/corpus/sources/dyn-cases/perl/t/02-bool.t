use strict;
use warnings;
use Test::More;
use lib 'lib';
use Conf;

for my $v (qw(1 yes true on)) {
    is(Conf::bool($v), 1, "'$v' is true");
}
for my $v (qw(0 no false off)) {
    is(Conf::bool($v), 0, "'$v' is false");
}
is(Conf::bool('Yes'), 1, 'case-insensitive Yes');
is(Conf::bool('TRUE'), 1, 'case-insensitive TRUE');
done_testing;
