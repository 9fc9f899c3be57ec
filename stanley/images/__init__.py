"""Images: the image data sets, FID (the clean-fid protocol and the proxy) and inpainting."""
