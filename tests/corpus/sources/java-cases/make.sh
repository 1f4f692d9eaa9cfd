#!/usr/bin/env bash
# Java cases:
#   java-javac-001     compile/   javac: lossy long->int and an undefined field
#   java-junit-002     junit/     JUnit 4 (Debian junit4 jar): 64 tests, 2 failures
#   java-exception-003 exception/ smoke run of the ETL main: NullPointerException on a blank region
#   java-maven-004     maven/     mvn -o: plugins and dependencies not in the local repository
#   java-oom-005       exception/ backfill job runs out of heap (-Xmx256m)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE"
source ../native-lib/lib.sh
CP=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar

in_checkout() { # SUBDIR DEST
    rm -rf "$2" && mkdir -p "$2" && cp -a "$HERE/$1/." "$2/" && cd "$2"
}

(
    in_checkout compile /builds/billing/invoice-service
    capture "$WORK/c-ver.txt" javac -version
    capture "$WORK/c-build.txt" bash -c 'javac -Xlint:all -d out $(find src -name "*.java" | sort)'
    frame_case java-javac-001 --shape gitlab --job "compile" \
        --before "$WORK/c-ver.txt" --before-command "javac -version" \
        --command 'javac -Xlint:all -d out $(find src -name "*.java" | sort)' --exit-code "$rc" --output "$WORK/c-build.txt"
    rm -rf /builds/billing
)
(
    in_checkout junit /home/runner/work/cart/cart
    capture "$WORK/j-apt.txt" apt-get install -y junit4 default-jdk-headless
    capture "$WORK/j-build.txt" bash -c "javac -verbose -g -d out -cp $CP \$(find src test -name '*.java' | sort)"
    capture "$WORK/j-test.txt" java -cp "out:$CP" org.junit.runner.JUnitCore com.acme.cart.CartTest
    frame_case java-junit-002 --shape github_actions --job "test (temurin-17)" \
        --before "$WORK/j-apt.txt" --before-command "sudo apt-get install -y junit4 default-jdk-headless" \
        --before "$WORK/j-build.txt" --before-command "javac -verbose -g -d out -cp $CP \$(find src test -name '*.java' | sort)" \
        --command "java -cp out:$CP org.junit.runner.JUnitCore com.acme.cart.CartTest" --exit-code "$rc" \
        --output "$WORK/j-test.txt"
    rm -rf /home/runner/work/cart
)
(
    in_checkout exception /var/lib/jenkins/workspace/etl_main
    capture "$WORK/e-build.txt" bash -c 'javac -g -d out $(find src -name "*.java" | sort) && echo "compiled $(find out -name "*.class" | wc -l) classes"'
    capture "$WORK/e-run.txt" java -cp out com.acme.etl.Main
    frame_case java-exception-003 --shape jenkins --job "Smoke test" \
        --before "$WORK/e-build.txt" --before-command 'javac -g -d out $(find src -name "*.java" | sort)' \
        --command "java -cp out com.acme.etl.Main" --exit-code "$rc" --output "$WORK/e-run.txt"
    capture "$WORK/o-run.txt" java -Xmx256m -cp out com.acme.etl.Backfill 365
    frame_case java-oom-005 --shape circleci --job "backfill" \
        --before "$WORK/e-build.txt" --before-command 'javac -g -d out $(find src -name "*.java" | sort)' \
        --command "java -Xmx256m -cp out com.acme.etl.Backfill 365" --exit-code "$rc" --output "$WORK/o-run.txt"
    rm -rf /var/lib/jenkins/workspace/etl_main
)
(
    in_checkout maven /var/lib/buildkite-agent/builds/agent-1/org/shipping-rates
    capture "$WORK/m-ver.txt" mvn -v
    capture "$WORK/m-test.txt" mvn -o -B test
    frame_case java-maven-004 --shape buildkite --job "mvn test" \
        --before "$WORK/m-ver.txt" --before-command "mvn -v" \
        --command "mvn -o -B test" --exit-code "$rc" --output "$WORK/m-test.txt"
    rm -rf /var/lib/buildkite-agent/builds/agent-1/org/shipping-rates
)
