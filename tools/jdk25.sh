# Sourced (POSIX sh) by ./mvnw and ./finlora: make JAVA_HOME point at a JDK 25 or newer.
# Keeps JAVA_HOME when it already is 25+, else takes the newest JDK 25+ under /usr/lib/jvm.
finlora_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
finlora_pick_jdk() {
  if [ -n "${JAVA_HOME-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(finlora_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then return 0; fi
  fi
  best=""; bestv=0
  case $- in *f*) set +f; finlora_noglob=1 ;; *) finlora_noglob=0 ;; esac   # mvnw runs with set -f
  for d in /usr/lib/jvm/* /opt/java/* /usr/local/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    v=$(finlora_java_major "$d")
    if [ -n "$v" ] && [ "$v" -ge 25 ] && [ "$v" -gt "$bestv" ]; then best="$d"; bestv="$v"; fi
  done
  [ "$finlora_noglob" = 1 ] && set -f
  if [ -z "$best" ]; then
    echo "finlora: no JDK 25 or newer found (set JAVA_HOME to one, or install it under /usr/lib/jvm)" >&2
    return 1
  fi
  JAVA_HOME="$best"; export JAVA_HOME
}
finlora_pick_jdk || exit 1
