#!/bin/sh
# Rotates application logs older than a week.
LOG_DIR=${LOG_DIR:-/var/log/app}
DAYS=7

for log in "$LOG_DIR"/*.log; do
    if [[ -f "$log" ]]; then
        gzip -9 "$log"
    fi
done
find $LOG_DIR -name '*.gz' -mtime +$DAYS -exec rm {} \;
echo "rotated logs in $LOG_DIR" >> $LOG_DIR/rotate.log 2>&1 >/dev/null
