"""template.yaml's media CDN: CloudFront reads the bucket through origin access control, serves only URLs
signed with the key group's key, and is the only reader the bucket policy lets in; the API gets the
domain, the key id and the private key's secret to sign with (README: Media and the CDN)."""

from __future__ import annotations

from storywink.local.template import load_template, repo_root

TEMPLATE = load_template(repo_root() / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
CDN = ["MediaOriginAccessControl", "MediaSigningPublicKeyResource", "MediaKeyGroup", "MediaResponseHeadersPolicy",
       "MediaDistribution"]
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def test_the_cdn_exists_exactly_when_a_signing_key_is_given():
    assert TEMPLATE["Conditions"]["HasMediaCdn"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MediaSigningPublicKey"}, ""]}]}
    assert all(RESOURCES[name]["Condition"] == "HasMediaCdn" for name in CDN)
    # A public key without its private half would make URLs nobody can sign.
    (assertion,) = TEMPLATE["Rules"]["MediaSigningKeyIsWhole"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "MediaSigningPrivateKeySecretArn"}, ""]}]}


def test_the_origin_access_control_signs_every_request_with_sigv4():
    config = RESOURCES["MediaOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (config["OriginAccessControlOriginType"], config["SigningBehavior"], config["SigningProtocol"]) == (
        "s3", "always", "sigv4"
    )


def test_the_key_group_holds_the_given_public_key():
    key = RESOURCES["MediaSigningPublicKeyResource"]["Properties"]["PublicKeyConfig"]
    assert key["EncodedKey"] == {"Ref": "MediaSigningPublicKey"}
    assert RESOURCES["MediaKeyGroup"]["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": "MediaSigningPublicKeyResource"}]


def test_the_distribution_reads_the_bucket_through_oac_and_serves_only_signed_urls_over_https():
    config = RESOURCES["MediaDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy identity
    behaviour = config["DefaultCacheBehavior"]
    assert "CacheBehaviors" not in config  # no other path escapes the key group
    assert behaviour["TargetOriginId"] == origin["Id"]
    assert behaviour["TrustedKeyGroups"] == [{"Ref": "MediaKeyGroup"}]
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    # The object's Cache-Control decides the TTL, and the signature is not in the cache key.
    assert behaviour["CachePolicyId"] == CACHING_OPTIMIZED


def test_the_bucket_lets_in_only_the_distribution_and_only_to_the_pictures():
    statements = RESOURCES["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (conditional,) = [s for s in statements if isinstance(s, dict) and "Fn::If" in s]
    condition, allow, otherwise = conditional["Fn::If"]
    assert (condition, otherwise) == ("HasMediaCdn", {"Ref": "AWS::NoValue"})
    assert allow["Effect"] == "Allow" and allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert sorted(r["Fn::Sub"].rsplit("/", 2)[1] for r in allow["Resource"]) == ["illustrations", "photos", "thumbnails"]
    assert allow["Condition"]["StringEquals"]["aws:SourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${MediaDistribution}"
    }
    # The TLS-only refusals stay.
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    assert [s["Condition"] for s in denies] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_the_api_signs_with_the_distributions_key():
    function = RESOURCES["ApiFunction"]["Properties"]
    variables = function["Environment"]["Variables"]
    assert variables["MEDIA_CDN_DOMAIN"] == {
        "Fn::If": ["HasMediaCdn", {"Fn::GetAtt": ["MediaDistribution", "DomainName"]}, {"Ref": "AWS::NoValue"}]
    }
    assert variables["MEDIA_CDN_KEY_ID"] == {
        "Fn::If": ["HasMediaCdn", {"Ref": "MediaSigningPublicKeyResource"}, {"Ref": "AWS::NoValue"}]
    }
    assert variables["MEDIA_CDN_PRIVATE_KEY_SECRET_ARN"]["Fn::If"][1] == {"Ref": "MediaSigningPrivateKeySecretArn"}
    secret_grants = [p["Fn::If"] for p in function["Policies"] if isinstance(p, dict) and "Fn::If" in p]
    assert ["HasMediaCdn", {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "MediaSigningPrivateKeySecretArn"}}},
            {"Ref": "AWS::NoValue"}] in secret_grants
