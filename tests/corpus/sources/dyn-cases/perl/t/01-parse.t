use strict;
use warnings;
use Test::More;
use lib 'lib';
use Conf;

my $c = Conf::parse("name = web\nport = 8080\n# comment\nworkers=4\n");
is($c->{name}, 'web', 'name parsed');
is($c->{port}, 8080, 'port parsed');
is($c->{workers}, 4, 'no spaces around =');
is(scalar keys %$c, 3, 'comment skipped');
my $q = Conf::parse("motd = \"Welcome # friends\"\n");
is($q->{motd}, '"Welcome # friends"', 'hash inside quotes is not a comment');
done_testing;
