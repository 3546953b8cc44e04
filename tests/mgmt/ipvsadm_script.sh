#!/bin/sh
# The kind of script an ipvsadm user writes. daemon_test.py runs it with `ipvsadm` resolving to
# ulvsadm (a PATH shim) to show it works unchanged. Prints the listings it takes.
set -e
VIP=203.0.113.100
ipvsadm -C
ipvsadm -A -t $VIP:80 -s wrr
ipvsadm -a -t $VIP:80 -r 198.51.100.11:80 -g -w 3
ipvsadm -a -t $VIP:80 -r 198.51.100.12:80 -g -w 1
ipvsadm -A -u $VIP:53 -s rr
ipvsadm -a -u $VIP:53 -r 198.51.100.11 -g
ipvsadm -a -u $VIP:53 -r 198.51.100.12 -g -w 2
ipvsadm -A -t $VIP:443 -s rr
ipvsadm -a -t $VIP:443 -r 198.51.100.13:443
ipvsadm -e -t $VIP:80 -r 198.51.100.12:80 -g -w 0
ipvsadm -E -t $VIP:443 -s wrr -p 120 -M 255.255.255.0
ipvsadm -d -u $VIP:53 -r 198.51.100.11:53
echo "== -Ln"
ipvsadm -Ln
echo "== --stats"
ipvsadm -Ln --stats
echo "== -S"
ipvsadm -S -n > "$1/saved.rules"
cat "$1/saved.rules"
ipvsadm -D -t $VIP:443
ipvsadm -C
ipvsadm -R < "$1/saved.rules"
echo "== restored"
ipvsadm -S -n
ipvsadm -Z
ipvsadm --set 900 120 300
echo "== timeout"
ipvsadm -L --timeout
