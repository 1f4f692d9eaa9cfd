#!/usr/bin/env bash
# Ruby, PHP, Perl and Erlang cases:
#   ruby-rspec-001     ruby/   rspec --force-color: 3 expectation diffs and a NoMethodError
#   ruby-nomethod-002  ruby/   rspec -e author_line: NoMethodError on a guest post (author nil)
#   php-phpunit-001    php/    phpunit: array diff on the mean, wrong exception type
#   perl-prove-001     perl/   prove -v: comment stripping inside quotes, case-sensitive bool
#   erlang-eunit-001   erlang/ eunit: allow/2 checks the tokens before refilling
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
source ../native-lib/lib.sh

in_checkout() { # SUBDIR DEST
    rm -rf "$2" && mkdir -p "$2" && cp -a "$HERE/$1/." "$2/" && cd "$2"
}

(
    in_checkout ruby /home/runner/work/slugger/slugger
    capture "$WORK/r-ver.txt" bash -c 'ruby -v && rspec --version'
    capture "$WORK/r-spec.txt" rspec --force-color
    frame_case ruby-rspec-001 --shape github_actions_plain --job "rspec (ruby 3.1)" --literal-escapes \
        --before "$WORK/r-ver.txt" --before-command "ruby -v && rspec --version" \
        --command "bundle exec rspec --force-color" --exit-code "$rc" --output "$WORK/r-spec.txt"
    rm -rf /home/runner/work/slugger
)
(
    in_checkout ruby /builds/blog/slugger
    capture "$WORK/n-spec.txt" rspec --format documentation -e author_line
    frame_case ruby-nomethod-002 --shape gitlab --job "spec" \
        --command "rspec --format documentation -e author_line" --exit-code "$rc" --output "$WORK/n-spec.txt"
    rm -rf /builds/blog
)
(
    in_checkout php /home/runner/work/weather/weather
    capture "$WORK/p-ver.txt" bash -c 'php -v && phpunit --version'
    capture "$WORK/p-test.txt" phpunit --colors=never tests
    frame_case php-phpunit-001 --shape github_actions --job "phpunit (8.2)" \
        --before "$WORK/p-ver.txt" --before-command "php -v && phpunit --version" \
        --command "vendor/bin/phpunit --colors=never tests" --exit-code "$rc" --output "$WORK/p-test.txt"
    rm -rf /home/runner/work/weather
)
(
    in_checkout perl /var/lib/jenkins/workspace/conf_main
    capture "$WORK/l-ver.txt" perl -v
    capture "$WORK/l-prove.txt" prove -v t/
    frame_case perl-prove-001 --shape jenkins --job "Test" \
        --before "$WORK/l-ver.txt" --before-command "perl -v" \
        --command "prove -v t/" --exit-code "$rc" --output "$WORK/l-prove.txt"
    rm -rf /var/lib/jenkins/workspace/conf_main
)
(
    in_checkout erlang /var/lib/buildkite-agent/builds/agent-1/org/rate_limiter
    mkdir -p ebin
    capture "$WORK/e-build.txt" bash -c 'erlc -v -o ebin src/*.erl test/*.erl && ls ebin'
    capture "$WORK/e-test.txt" erl -noshell -pa ebin -eval 'case eunit:test(rate_limiter_tests, [verbose]) of ok -> halt(0); _ -> halt(1) end.'
    frame_case erlang-eunit-001 --shape buildkite --job "eunit" \
        --before "$WORK/e-build.txt" --before-command "erlc -o ebin src/*.erl test/*.erl" \
        --command "erl -noshell -pa ebin -eval 'case eunit:test(rate_limiter_tests, [verbose]) of ok -> halt(0); _ -> halt(1) end.'" \
        --exit-code "$rc" --output "$WORK/e-test.txt"
    rm -rf /var/lib/buildkite-agent/builds/agent-1/org/rate_limiter
)
