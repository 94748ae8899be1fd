"""Telephony: calls from the PBX (Asterisk AMI or Mango Office's cloud PBX) open the caller's dossier on
the operator's screen, every call goes to the call log, missed calls to the call-back list, and a click
on a number calls the client (docs/telephony.md)."""
