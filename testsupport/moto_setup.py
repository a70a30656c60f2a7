"""Prepares a moto S3 server for the store tests (run with the moto venv's python).

moto runs with INITIAL_NO_AUTH_ACTION_COUNT=3, so the three IAM calls below are the only
unauthenticated requests it accepts: afterwards every request must be signed with the access
key created here, and a wrong secret gets 403 like on AWS. Prints
{"access_key_id", "secret_access_key"} as JSON.

    python moto_setup.py ENDPOINT BUCKET [BUCKET...]
"""
import json
import sys

import boto3

endpoint, buckets = sys.argv[1], sys.argv[2:]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="ytcaption-test")
iam.put_user_policy(
    UserName="ytcaption-test", PolicyName="s3-all",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="ytcaption-test")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key["AccessKeyId"],
                  aws_secret_access_key=key["SecretAccessKey"])
for b in buckets:
    s3.create_bucket(Bucket=b)
print(json.dumps({"access_key_id": key["AccessKeyId"],
                  "secret_access_key": key["SecretAccessKey"]}))
