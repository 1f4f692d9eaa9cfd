package Conf;
use strict;
use warnings;

# Parse "key = value" lines; '#' starts a comment.
sub parse {
    my ($text) = @_;
    my %conf;
    for my $line (split /\n/, $text) {
        $line =~ s/#.*//;
        next unless $line =~ /\S/;
        my ($k, $v) = $line =~ /^\s*(\w+)\s*=\s*(.*?)\s*$/ or die "bad line: $line\n";
        $conf{$k} = $v;
    }
    return \%conf;
}

sub bool {
    my ($v) = @_;
    return $v =~ /^(1|yes|true|on)$/ ? 1 : 0;
}

1;
