#!/bin/bash
# Deploys the built site to the target directory.
TARGET=$1
BUILD_DIR=build

if [ -z $TARGET ]; then
    echo "usage: deploy.sh TARGET"
    exit 1
fi

cd $BUILD_DIR
for f in $(ls *.html); do
    cp $f $TARGET/
done

files=`find . -name '*.css'`
echo "copied $files"
rm -rf $TARGET/cache/*
read version < VERSION
echo "deployed $version to $TARGET"
